/** What every request is answered with (events/README.md, "Requests and replies"). */
export type Reply =
  | { ok: true; commandId?: string; seq: number; result: Record<string, unknown> }
  | { ok: false; commandId?: string; error: { code: string; message: string; details?: unknown } };
