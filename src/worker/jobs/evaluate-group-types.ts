/**
 * The requests of the benchmarks scored over groups of answers (MME-style
 * yes/no, multiple choice by CircularEval), declared below evaluate-types.ts,
 * which joins them into EvaluationRequest, so their planners can take them
 * without a cycle.
 */

/** A text file the page read (a question file, a LLaVA JSON, a TSV). */
export interface EvalTextFile {
  name: string;
  text: string;
}

/** MME's release layout: a folder per subtask with images and "question<TAB>Yes|No" .txt files. */
export interface MmeRequest {
  benchmark: 'mme';
  /** Every .txt of the picked folder, named by its path in the folder. */
  questionFiles: EvalTextFile[];
  /** The other files of the folder, by path; the images are among them. */
  imageNames: string[];
}

/** An MMBench-style TSV, each question asked once per rotation of its options. */
export interface ChoiceRequest {
  benchmark: 'choice';
  data: EvalTextFile;
  /** The user's files an `image_path` column may name; empty when the TSV carries base64 images. */
  imageNames: string[];
}
