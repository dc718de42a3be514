// Messages that ask for a human go to the support desk's webhook; the rest
// get an answer here.
function handle(msg, ctx) {
  if (/\b(agent|human|help)\b/i.test(msg.body)) {
    return { redirect: { url: ctx.vars.support_url, method: "POST" } };
  }
  return "An automated answer. Write HELP to reach a person.";
}
