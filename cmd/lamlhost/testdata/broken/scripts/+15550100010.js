function handle(m) {
  return m.body +;
}
