import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from './package-root';

export const VERSION: string = (() => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
