// Auto-responder for a shop. Opening hours and the shop's name come from
// ctx.vars (see config.toml); ctx.now is the time in the number's time zone.
function handle(msg, ctx) {
  var v = ctx.vars;
  var shop = v.shop || "our shop";
  var opens = v.opens || 9;
  var closes = v.closes || 18;
  var days = v.days || [1, 2, 3, 4, 5, 6];
  var now = ctx.now;
  var open = days.indexOf(now.weekday) >= 0 && now.hour >= opens && now.hour < closes;

  if (msg.media.length > 0) {
    return "Thanks for the picture! " + shop + " will take a look.";
  }
  if (open) {
    return "Thanks for your message to " + shop + "! We'll answer shortly.";
  }
  return {
    message: {
      body: shop + " is closed now. We open at " + opens +
        ":00, Monday to Saturday. We'll answer then.",
    },
  };
}
