/**
 * Corpus files where shadowtap legitimately differs from tshark, with the reason. Keep this short:
 * every entry is a claim a reviewer can check.
 */
export const KNOWN_DIFFERENCES: Record<string, string> = {};
