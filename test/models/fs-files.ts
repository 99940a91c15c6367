import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError, type ModelFiles } from '../../src/models/model-files';
import { MODEL_DIR, MODEL_NAME } from './golden';

/** The bundled model's files read from public/models, as the browser would fetch them. */
export function bundledModelFiles(dir = MODEL_DIR, id = MODEL_NAME): ModelFiles {
  return {
    id,
    async bytes(name) {
      try {
        const b = await readFile(join(dir, name));
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch {
        throw new ModelFileError(`${id}/${name}`, 'missing', 'was not found');
      }
    },
  };
}
