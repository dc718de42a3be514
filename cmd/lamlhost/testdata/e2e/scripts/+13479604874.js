function handle(msg, ctx) {
  console.log("from", msg.params.FromCity);
  return ctx.vars.greeting + " from " + msg.params.FromCity + " <" + msg.body + "> & " +
    msg.sid;
}
