import { describe, expect, it } from 'vitest';
import type { ChatReply, ChatRequest } from '../../src/worker/api';
import { evalQuestions } from '../../src/worker/jobs/eval-questions';

/** A model that always gives one answer, and records each question it was asked. */
function fixedModel(answer: string) {
  const asked: string[] = [];
  return {
    asked,
    chat: (r: ChatRequest): Promise<ChatReply> => {
      const part = (r.messages[0]?.content as { text?: string }[])[0];
      asked.push(part?.text ?? '');
      return Promise.resolve({ text: answer } as ChatReply);
    },
  };
}

describe('evalQuestions on the held-out concept', () => {
  it('asks only questions that name the star or purple, in questions or answers', async () => {
    const model = fixedModel('purple');
    const reply = await evalQuestions(model, { seed: 8501, count: 40, tasks: ['vqa-colour', 'vqa-shape'], concept: true });
    expect(reply.results).toHaveLength(40);
    for (const r of reply.results) expect(`${r.question} ${r.expected}`.toLowerCase()).toMatch(/\bstars?\b|\bpurple\b/);
    // The answer "purple" is right exactly where purple is expected: some, not all.
    const right = reply.results.filter((r) => r.correct).length;
    expect(right).toBe(reply.results.filter((r) => r.expected === 'purple').length);
    expect(right).toBeGreaterThan(0);
    expect(right).toBeLessThan(40);
  });

  it('is deterministic by seed and differs from the ordinary split', async () => {
    const a = await evalQuestions(fixedModel('x'), { seed: 3, count: 10, tasks: ['vqa-shape'], concept: true });
    const b = await evalQuestions(fixedModel('x'), { seed: 3, count: 10, tasks: ['vqa-shape'], concept: true });
    const plain = await evalQuestions(fixedModel('x'), { seed: 3, count: 10, tasks: ['vqa-shape'] });
    expect(a.results.map((r) => r.id)).toEqual(b.results.map((r) => r.id));
    expect(plain.results.some((r) => !/star|purple/.test(`${r.question} ${r.expected}`))).toBe(true);
  });

  it('says which tasks to add when the tasks cannot ask about the concept', async () => {
    await expect(evalQuestions(fixedModel('x'), { seed: 1, count: 5, tasks: ['chart-type'], concept: true })).rejects.toThrow(/add vqa-colour or vqa-shape/);
  });
});
