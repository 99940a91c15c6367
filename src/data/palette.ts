/**
 * The RGB value of every colour name. Object colours are saturated and far
 * from every background even after background noise, so "which pixels belong
 * to an object" has one exact answer (the tests rely on it).
 */
import type { Rgb } from './raster';
import type { ColourName } from './vocabulary';

export const COLOUR_RGB: Readonly<Record<ColourName, Rgb>> = {
  red: [220, 40, 40],
  orange: [245, 140, 20],
  yellow: [240, 215, 30],
  green: [40, 170, 60],
  cyan: [30, 200, 210],
  blue: [40, 80, 220],
  pink: [240, 120, 190],
  purple: [140, 60, 190],
};

export const BACKGROUNDS = ['white', 'gray', 'black'] as const;
export type BackgroundName = (typeof BACKGROUNDS)[number];

export const BACKGROUND_RGB: Readonly<Record<BackgroundName, Rgb>> = {
  white: [250, 250, 250],
  gray: [128, 128, 128],
  black: [16, 16, 16],
};

/**
 * Largest per-channel noise on a noisy background. Every object colour has a
 * channel more than this away from every background colour (checked by a test).
 */
export const NOISE_AMPLITUDE = 20;

/** Ink for text where no palette colour is wanted: dark on light, light on dark. */
export function inkFor(background: BackgroundName): Rgb {
  return background === 'black' ? [235, 235, 235] : [20, 20, 20];
}
