import * as fs from 'node:fs';
import * as path from 'node:path';

/** The directory holding shadowtap's package.json (works from src/ under a TS runner and from dist/src/). */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'shadowtap') return dir;
      } catch {
        /* keep walking */
      }
    }
    dir = path.dirname(dir);
  }
  throw new Error('shadowtap package root not found above ' + __dirname);
}
