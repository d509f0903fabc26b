/** Shared console formatting for the demo sections. */
export function title(text: string): void {
  console.log(`\n== ${text} ${'='.repeat(Math.max(0, 70 - text.length))}`);
}
