/**
 * VQAv2's answer normalisation and accuracy, as the official evaluation
 * (github.com/GT-Vision-Lab/VQA, PythonEvaluationTools/vqaEvaluation/vqaEval.py)
 * computes them, quirks kept so scores compare with published ones.
 */

/** vqaEval.py's contractions table: the apostrophe-less spellings people type, mapped back. */
const CONTRACTIONS: Readonly<Record<string, string>> = {
  aint: "ain't", arent: "aren't", cant: "can't", couldve: "could've", couldnt: "couldn't", "couldn'tve": "couldn't've", "couldnt've": "couldn't've",
  didnt: "didn't", doesnt: "doesn't", dont: "don't", hadnt: "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", hasnt: "hasn't",
  havent: "haven't", hed: "he'd", "hed've": "he'd've", "he'dve": "he'd've", hes: "he's", howd: "how'd", howll: "how'll", hows: "how's",
  "Id've": "I'd've", "I'dve": "I'd've", Im: "I'm", Ive: "I've", isnt: "isn't", itd: "it'd", "itd've": "it'd've", "it'dve": "it'd've", itll: "it'll",
  "let's": "let's", maam: "ma'am", mightnt: "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've", mightve: "might've",
  mustnt: "mustn't", mustve: "must've", neednt: "needn't", notve: "not've", oclock: "o'clock", oughtnt: "oughtn't", "ow's'at": "'ow's'at",
  "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", shant: "shan't", "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's",
  shouldve: "should've", shouldnt: "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've", "somebody'd": "somebodyd",
  "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", somebodyll: "somebody'll", somebodys: "somebody's", someoned: "someone'd",
  "someoned've": "someone'd've", "someone'dve": "someone'd've", someonell: "someone'll", someones: "someone's", somethingd: "something'd",
  "somethingd've": "something'd've", "something'dve": "something'd've", somethingll: "something'll", thats: "that's", thered: "there'd",
  "thered've": "there'd've", "there'dve": "there'd've", therere: "there're", theres: "there's", theyd: "they'd", "theyd've": "they'd've",
  "they'dve": "they'd've", theyll: "they'll", theyre: "they're", theyve: "they've", twas: "'twas", wasnt: "wasn't", "wed've": "we'd've",
  "we'dve": "we'd've", weve: "we've", werent: "weren't", whatll: "what'll", whatre: "what're", whats: "what's", whatve: "what've", whens: "when's",
  whered: "where'd", wheres: "where's", whereve: "where've", whod: "who'd", "whod've": "who'd've", "who'dve": "who'd've", wholl: "who'll",
  whos: "who's", whove: "who've", whyll: "why'll", whyre: "why're", whys: "why's", wont: "won't", wouldve: "would've", wouldnt: "wouldn't",
  "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", yall: "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've",
  "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", youd: "you'd", "youd've": "you'd've", "you'dve": "you'd've", youll: "you'll",
  youre: "you're", youve: "you've",};

const DIGITS: Readonly<Record<string, string>> = {
  none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
};

const ARTICLES = new Set(['a', 'an', 'the']);

const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];

const COMMA_BETWEEN_DIGITS = /(\d)(,)(\d)/;

/**
 * vqaEval.py passes re.UNICODE (32) where re.sub takes its count, so at most
 * 32 periods are removed; its "(?!<=\d)" is a lookahead that always holds
 * before a '.', so the rule is: drop a period not followed by a digit.
 */
const PERIOD_LIMIT = 32;

function stripPeriods(text: string): string {
  let left = PERIOD_LIMIT;
  return text.replace(/\.(?!\d)/g, (m) => (left-- > 0 ? '' : m));
}

/** processPunctuation: a mark touching a space (or any text with a 1,000-style comma) is deleted, otherwise it becomes a space. */
export function processPunctuation(text: string): string {
  let out = text;
  const deleteAll = COMMA_BETWEEN_DIGITS.test(text);
  for (const p of PUNCT) {
    const touchesSpace = text.includes(`${p} `) || text.includes(` ${p}`);
    out = out.replaceAll(p, touchesSpace || deleteAll ? '' : ' ');
  }
  return stripPeriods(out);
}

/** processDigitArticle: lowercase, number words to digits, articles dropped, contractions restored, single spaces. */
export function processDigitArticle(text: string): string {
  const words = text
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => DIGITS[w] ?? w)
    .filter((w) => !ARTICLES.has(w));
  return words.map((w) => CONTRACTIONS[w] ?? w).join(' ');
}

/** vqaEval.py's first step on every answer: newlines and tabs to spaces, trimmed. */
const clean = (s: string): string => s.replaceAll('\n', ' ').replaceAll('\t', ' ').trim();

/** The full normalisation: punctuation, then digits, articles and contractions. */
export function normaliseVqaAnswer(text: string): string {
  return processDigitArticle(processPunctuation(clean(text)));
}

export function vqaExactMatch(pred: string, gold: string): boolean {
  return normaliseVqaAnswer(pred) === normaliseVqaAnswer(gold);
}

/**
 * VQAv2 accuracy of one answer against the human answers (10 in VQAv2): for
 * each human left out in turn, min(1, others agreeing / 3), averaged. As in
 * vqaEval.py, answers are normalised only when the humans disagree among
 * themselves (so with ten identical answers the prediction must match as
 * written, after trimming). With a single answer there is no one to leave out,
 * and vqaEval.py would give 0; that is scored as exact match after
 * normalisation instead.
 */
export function vqaAccuracy(pred: string, answers: readonly string[]): number {
  if (answers.length === 0) throw new RangeError('VQA accuracy needs at least one reference answer');
  if (answers.length === 1) return vqaExactMatch(pred, answers[0] as string) ? 1 : 0;
  let gts = answers.map(clean);
  let res = clean(pred);
  if (new Set(gts).size > 1) {
    gts = gts.map((a) => processDigitArticle(processPunctuation(a)));
    res = processDigitArticle(processPunctuation(res));
  }
  let sum = 0;
  gts.forEach((_, i) => {
    const agreeing = gts.filter((a, j) => j !== i && a === res).length;
    sum += Math.min(1, agreeing / 3);
  });
  return sum / gts.length;
}
