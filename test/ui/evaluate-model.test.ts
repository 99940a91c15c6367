import { describe, expect, it } from 'vitest';
import { parseChoice } from '../../src/ui/evaluate-model';

describe("the Evaluate view's model choice", () => {
  it('reads model id, engine and weights back from an option value', () => {
    expect(parseChoice('webvlm-tiny|native')).toEqual({ id: 'webvlm-tiny', engine: 'native', dtype: 'f32' });
    expect(parseChoice('webvlm-tiny|native|int4')).toEqual({ id: 'webvlm-tiny', engine: 'native', dtype: 'int4' });
    expect(parseChoice('HuggingFaceTB/SmolVLM-256M-Instruct|onnx')).toEqual({ id: 'HuggingFaceTB/SmolVLM-256M-Instruct', engine: 'onnx', dtype: 'f32' });
  });

  it('refuses what the engines cannot load: quantized ONNX, unknown engines or weights, no id', () => {
    expect(parseChoice('webvlm-tiny|onnx|int8')).toBeNull();
    expect(parseChoice('webvlm-tiny|native|q3')).toBeNull();
    expect(parseChoice('webvlm-tiny|cuda')).toBeNull();
    expect(parseChoice('|native')).toBeNull();
  });

  it('reads a hub model on the transformers engine with its file variant, and refuses one without a variant or with a native one', () => {
    expect(parseChoice('HuggingFaceTB/SmolVLM-256M-Instruct|transformers|q4')).toEqual({ id: 'HuggingFaceTB/SmolVLM-256M-Instruct', engine: 'transformers', dtype: 'q4' });
    expect(parseChoice('HuggingFaceTB/SmolVLM-256M-Instruct|transformers')).toBeNull();
    expect(parseChoice('HuggingFaceTB/SmolVLM-256M-Instruct|transformers|int8')).toBeNull();
  });
});
