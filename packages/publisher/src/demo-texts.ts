/** What the demo agent thinks and answers: varied, and cut into tokens as a model would emit them. */

const thoughts = [
  'The user wants to see a run stream in.',
  'I should look this up before answering.',
  'Two things matter here: ordering and resumption.',
  'A short search first, then a plain answer.',
  'Let me check what the service keeps for a run.',
];

const sentences = [
  'Agentwire delivers every critical event exactly once, in order, even across reconnects.',
  'Edges are stateless: kill one and your browser resumes on another without missing a step.',
  'Tool calls and completions are sequenced and replayable; tokens stream live.',
  'Each run keeps the text of its streams, so a reloaded page gets the answer so far and then the rest.',
  'Appends carry a chunk number per stream, which tells a client at once whether it missed one.',
  'A slow connection may lose a few appends, but it gets a snapshot of the run before the next one.',
  'Producers post batches over HTTP; an event id seen again is delivered once.',
  'Redis holds the history, the runs and their texts, each for its retention time.',
  'Ça marche aussi en français, accents compris — and with emoji too 🚀.',
  'Naïve splitting of “smart quotes” or 日本語 would break text; appends never split a character.',
  'Behind the scenes a buffer sequences each user’s events while edges fan them out.',
  'If an agent goes quiet for too long, the service marks its run as stalled.',
];

export interface DemoRunScript {
  /** The `thinking` stream: one or two short sentences. */
  thinking: string;
  /** The `answer` stream: two to five sentences. */
  answer: string;
}

/** Picks `count` distinct items of `items` in random order. */
function pick(items: readonly string[], count: number, random: () => number): string[] {
  const pool = [...items];
  const picked: string[] = [];
  while (picked.length < count && pool.length > 0) {
    picked.push(pool.splice(Math.floor(random() * pool.length), 1)[0] as string);
  }
  return picked;
}

export function demoRunScript(random: () => number = Math.random): DemoRunScript {
  return {
    thinking: pick(thoughts, 1 + Math.floor(random() * 2), random).join(' '),
    answer: pick(sentences, 2 + Math.floor(random() * 4), random).join(' '),
  };
}

/** A word with its leading space, one other character with its leading space, or trailing space. */
const TOKEN = /\s*[\p{L}\p{N}'’]+|\s*[^\s\p{L}\p{N}'’]|\s+$/gu;

/**
 * Cuts `text` into tokens the way a model's output arrives: words with their
 * leading space, punctuation alone, long words in pieces of 2 to 4 characters
 * (whole code points). Joined, the tokens are `text` again.
 */
export function demoTokens(text: string, random: () => number = Math.random): string[] {
  const tokens: string[] = [];
  for (const word of text.match(TOKEN) ?? []) {
    const chars = Array.from(word);
    if (chars.length <= 6) {
      tokens.push(word);
      continue;
    }
    for (let i = 0; i < chars.length;) {
      const size = 2 + Math.floor(random() * 3);
      tokens.push(chars.slice(i, i + size).join(''));
      i += size;
    }
  }
  return tokens;
}
