// A healthy script: it must answer normally right after every hostile one.
function handle(msg, ctx) {
  const words = ("ok " + msg.body).trim().split(/\s+/);
  return { message: words[0] };
}
