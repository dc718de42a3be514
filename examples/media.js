// Answers a keyword with a picture; several keywords give several media.
function handle(msg, ctx) {
  var pictures = ctx.vars.pictures;
  var wanted = msg.body.toLowerCase().split(/\s+/).filter(function (w) {
    // Own keys only: "constructor" is not a picture.
    return Object.prototype.hasOwnProperty.call(pictures, w);
  });
  if (wanted.length === 0) {
    return "Send cat or dog (or both) for a picture.";
  }
  return {
    message: {
      body: "Here you go: " + wanted.join(" and "),
      media: wanted.map(function (w) { return pictures[w]; }),
    },
  };
}
