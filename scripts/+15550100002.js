// Auto-responder for the Corner Shop. Opening hours come from ctx.vars in
// config.toml; ctx.now is the time in the number's time zone.
function handle(msg, ctx) {
  var v = ctx.vars;
  var now = ctx.now;
  var open = v.days.indexOf(now.weekday) >= 0 &&
    now.hour >= v.opens && now.hour < v.closes;

  if (msg.media.length > 0) {
    return "Thanks for the picture! " + v.shop + " will take a look.";
  }
  if (open) {
    return "Thanks for your message to " + v.shop + "! We'll answer shortly.";
  }
  return {
    message: {
      body: v.shop + " is closed now. We open at " + v.opens +
        ":00, Monday to Saturday. We'll answer then.",
    },
  };
}
