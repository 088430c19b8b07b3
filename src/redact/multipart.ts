/**
 * multipart/* bodies (RFC 7578 / RFC 2046): split on the boundary at the byte level, part headers scanned
 * (field `name` gets key rules, `filename` the value detectors), each part's content redacted by its own
 * Content-Type (text when absent and no filename; a file part without a known text type is withheld by
 * the body layer). Rebuilt with the same boundary and line endings. Returns undefined when the body is
 * not well-formed multipart (the caller withholds it).
 */
import type { Ctx } from './ctx';
import { MediaType, parseMediaType, redactTyped, withhold } from './body';
import { applyKeyRule, redactText } from './text';

const MAX_PARTS = 10000;

function headerBlock(ctx: Ctx, block: string): { text: string; name?: string; filename?: string; type?: string } {
  const lines = block.split('\r\n');
  let name: string | undefined;
  let filename: string | undefined;
  let type: string | undefined;
  const out = lines.map((line) => {
    const colon = line.indexOf(':');
    if (colon < 0) return line;
    const hn = line.slice(0, colon).trim().toLowerCase();
    const hv = line.slice(colon + 1);
    if (hn === 'content-type') {
      type = hv.trim();
      return line;
    }
    if (hn === 'content-disposition') {
      const nm = /(?:^|;)\s*name="([^"]*)"/i.exec(hv) ?? /(?:^|;)\s*name=([^;\s]*)/i.exec(hv);
      if (nm !== null) name = nm[1];
      const r = hv.replace(/(filename\*?\s*=\s*)("[^"]*"|[^;\s]*)/gi, (_m, pre: string, val: string) => {
        const q = val.startsWith('"');
        const inner = q ? val.slice(1, -1) : val;
        filename = inner;
        const red = redactText(ctx, inner);
        return pre + (q ? `"${red}"` : red);
      });
      return line.slice(0, colon + 1) + r;
    }
    return line.slice(0, colon + 1) + redactText(ctx, hv);
  });
  const res: { text: string; name?: string; filename?: string; type?: string } = { text: out.join('\r\n') };
  if (name !== undefined) res.name = name;
  if (filename !== undefined) res.filename = filename;
  if (type !== undefined) res.type = type;
  return res;
}

export function redactMultipart(ctx: Ctx, mt: MediaType, body: Buffer): Buffer | undefined {
  const boundary = mt.params.get('boundary');
  if (boundary === undefined || boundary.length === 0 || boundary.length > 200) return undefined;
  if (ctx.depth >= ctx.cfg.bodies.maxDepth) return undefined;
  const delim = Buffer.from('--' + boundary, 'latin1');
  let pos = body.indexOf(delim);
  if (pos < 0) return undefined;
  const out: Buffer[] = [body.subarray(0, pos)]; // preamble: kept (not shown to applications), but scanned below
  const pre = out[0].toString('latin1');
  const preR = redactText(ctx, pre);
  if (preR !== pre) out[0] = Buffer.from(preR, 'latin1');
  let changed = preR !== pre;
  ctx.depth++;
  try {
    for (let n = 0; n < MAX_PARTS; n++) {
      const afterDelim = pos + delim.length;
      if (body[afterDelim] === 0x2d && body[afterDelim + 1] === 0x2d) {
        // close delimiter; epilogue kept as scanned text
        out.push(body.subarray(pos, afterDelim + 2));
        const epi = body.subarray(afterDelim + 2).toString('latin1');
        const epiR = redactText(ctx, epi);
        if (epiR !== epi) changed = true;
        out.push(epiR === epi ? body.subarray(afterDelim + 2) : Buffer.from(epiR, 'latin1'));
        return changed ? Buffer.concat(out) : body;
      }
      const lineEnd = body.indexOf('\r\n', afterDelim);
      if (lineEnd < 0) return undefined;
      const hdrEnd = body.indexOf('\r\n\r\n', lineEnd);
      const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), lineEnd);
      if (next < 0) return undefined;
      let headersText: string;
      let contentStart: number;
      if (hdrEnd >= 0 && hdrEnd < next) {
        headersText = body.subarray(lineEnd + 2, hdrEnd).toString('utf8');
        contentStart = hdrEnd + 4;
      } else if (body[lineEnd + 2] === 0x0d && body[lineEnd + 3] === 0x0a) {
        headersText = '';
        contentStart = lineEnd + 4;
      } else {
        headersText = '';
        contentStart = lineEnd + 2;
      }
      const h = headerBlock(ctx, headersText);
      const content = body.subarray(Math.min(contentStart, next), next);
      const rule = h.name !== undefined ? ctx.keyRule(h.name) : undefined;
      let newContent: Buffer = content;
      if (rule !== undefined && h.filename === undefined) {
        const text = content.toString('utf8');
        const r = applyKeyRule(ctx, rule, text);
        if (r !== text) newContent = Buffer.from(r, 'utf8');
      } else {
        const pmt = parseMediaType(h.type ?? (h.filename === undefined ? 'text/plain' : undefined));
        newContent = pmt.type === '' && h.filename !== undefined
          ? withhold(ctx, content, 'application/octet-stream', 'binary')
          : redactTyped(ctx, pmt, content);
      }
      const hdrBuf = headersText === h.text ? undefined : Buffer.from(h.text, 'utf8');
      if (newContent !== content || hdrBuf !== undefined) changed = true;
      out.push(body.subarray(pos, lineEnd + 2));
      if (hdrBuf !== undefined) {
        out.push(hdrBuf);
        out.push(body.subarray(hdrEnd, contentStart));
      } else out.push(body.subarray(lineEnd + 2, Math.min(contentStart, next)));
      out.push(newContent);
      out.push(Buffer.from('\r\n'));
      pos = next + 2;
    }
    return undefined;
  } finally {
    ctx.depth--;
  }
}
