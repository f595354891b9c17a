/** Keeps the last `capacity` complete lines written to it (plus an unfinished last line), so a failing test can show what a process said last. */
export class OutputRing {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly capacity = 200) {}

  write(chunk: string | Buffer): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    // The last part has no newline yet: keep it until the rest of the line arrives.
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.pushLine(line);
    // A process that writes one enormous line without newlines must not grow this without bound.
    if (this.partial.length > 64 * 1024) {
      this.pushLine(this.partial);
      this.partial = '';
    }
  }

  text(): string {
    const all = this.partial === '' ? this.lines : [...this.lines, this.partial];
    return all.join('\n');
  }

  private pushLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }
}
