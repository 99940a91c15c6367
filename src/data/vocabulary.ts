/**
 * The closed vocabulary of the synthetic world: shapes, colours and sizes, and
 * which of them are held back from base training data. A LoRA fine-tune later
 * teaches the held-out ones, so the base model must never see them, not even
 * as a negative in a yes/no question or as the colour of a chart bar.
 */

export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross', 'star'] as const;
export type ShapeName = (typeof SHAPES)[number];

export const COLOURS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'pink', 'purple'] as const;
export type ColourName = (typeof COLOURS)[number];

export const SIZES = ['small', 'medium', 'large'] as const;
export type SizeName = (typeof SIZES)[number];

/** Shapes absent from base training data. */
export const HELD_OUT_SHAPES: readonly ShapeName[] = ['star'];
/** Colours absent from base training data (objects, text, bars). */
export const HELD_OUT_COLOURS: readonly ColourName[] = ['purple'];

/**
 * exclude: base training data, no held-out shape or colour anywhere.
 * include: everything may appear.
 * focus: everything may appear and every scene holds at least one object with
 * a held-out shape or colour (a LoRA dataset about the new concepts).
 */
export const HELD_OUT_MODES = ['exclude', 'include', 'focus'] as const;
export type HeldOutMode = (typeof HELD_OUT_MODES)[number];

export function allowedShapes(mode: HeldOutMode): readonly ShapeName[] {
  return mode === 'exclude' ? SHAPES.filter((s) => !HELD_OUT_SHAPES.includes(s)) : SHAPES;
}

export function allowedColours(mode: HeldOutMode): readonly ColourName[] {
  return mode === 'exclude' ? COLOURS.filter((c) => !HELD_OUT_COLOURS.includes(c)) : COLOURS;
}

/** An object category of the synthetic world, named as questions name it ("red circle"). */
export interface Category {
  readonly colour: ColourName;
  readonly shape: ShapeName;
}

export function categoryName(c: Category): string {
  return `${c.colour} ${c.shape}`;
}

export function isHeldOut(c: Category): boolean {
  return HELD_OUT_SHAPES.includes(c.shape) || HELD_OUT_COLOURS.includes(c.colour);
}

/** Every colour x shape pair allowed under the mode, colour-major, in vocabulary order. */
export function categories(mode: HeldOutMode): Category[] {
  const out: Category[] = [];
  for (const colour of allowedColours(mode)) {
    for (const shape of allowedShapes(mode)) out.push({ colour, shape });
  }
  return out;
}

const PLURAL: Record<ShapeName, string> = {
  circle: 'circles',
  square: 'squares',
  triangle: 'triangles',
  diamond: 'diamonds',
  cross: 'crosses',
  star: 'stars',
};

export function shapePlural(s: ShapeName): string {
  return PLURAL[s];
}
