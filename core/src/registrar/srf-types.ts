/** The slice of drachtio-srf's request/response objects the registrar uses. */
export interface SrfReq {
  method: string;
  uri: string;
  protocol?: string;
  source_address: string;
  source_port: number | string;
  body?: string;
  get(name: string): string | undefined;
  getRawHeaders?: (name: string) => string[];
  locals?: Record<string, unknown>;
}

export interface SrfRes {
  send(status: number, reason?: string | object, opts?: object): void;
  finalResponseSent?: boolean;
}
