/**
 * The exchange record in TypeScript: the same shape as proto/shadowtap/v1/exchange.proto
 * (message Exchange), with camelCase names. Bodies are Buffers owned by the record.
 * 64-bit fields are JS numbers (microsecond timestamps and sizes stay below 2^53).
 */
export const SCHEMA_VERSION = 1;

export interface Header {
  name: string;
  value: string;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export interface ConnectionInfo {
  client: Endpoint;
  server: Endpoint;
  vni?: number;
  source: string;
  id: number;
  tunnel: string;
  tunnelSource: string;
}

export interface HttpMessageCommon {
  httpVersion: string;
  headers: Header[];
  body: Buffer;
  contentEncodings: string[];
  wireBodySize: number;
  startMicros: number;
  endMicros: number;
  trailers: Header[];
}

export interface RequestRecord extends HttpMessageCommon {
  method: string;
  url: string;
}

export interface ResponseRecord extends HttpMessageCommon {
  status: number;
  reason: string;
}

export interface Completeness {
  requestMissing: boolean;
  responseMissing: boolean;
  requestGapBytes: number;
  responseGapBytes: number;
  requestBodyPartial: boolean;
  responseBodyPartial: boolean;
  truncated: boolean;
  midStream: boolean;
  parseError: string;
  decodeError: string;
  bodyCapped: boolean;
  closeReason: string;
  pairingUncertain: boolean;
}

export interface RedactionHit {
  rule: string;
  count: number;
}

export interface Exchange {
  connection: ConnectionInfo;
  request?: RequestRecord;
  response?: ResponseRecord;
  completeness: Completeness;
  redactions: RedactionHit[];
  index: number;
  upgraded: boolean;
  /** 1xx interim responses (100 Continue, 103 Early Hints) that came before the final response. */
  interimStatuses: number[];
}

export function emptyCompleteness(): Completeness {
  return {
    requestMissing: false,
    responseMissing: false,
    requestGapBytes: 0,
    responseGapBytes: 0,
    requestBodyPartial: false,
    responseBodyPartial: false,
    truncated: false,
    midStream: false,
    parseError: '',
    decodeError: '',
    bodyCapped: false,
    closeReason: '',
    pairingUncertain: false,
  };
}
