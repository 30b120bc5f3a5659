export class SandboxError extends Error {
  override name = 'SandboxError';
}

/** A caller passed something the sandbox cannot use (a name too long for the kernel, a dir too deep for a unix socket). */
export class SandboxArgumentError extends SandboxError {
  override name = 'SandboxArgumentError';
}

/** A daemon exited or did not become ready; the message ends with the tail of its log. */
export class SandboxStartError extends SandboxError {
  override name = 'SandboxStartError';
  readonly component: string;
  readonly logPath: string;
  readonly logTail: string;

  constructor(fields: { component: string; reason: string; logPath: string; logTail: string }, options?: ErrorOptions) {
    super(`${fields.component} did not start: ${fields.reason}\n--- tail of ${fields.logPath} ---\n${fields.logTail}`, options);
    this.component = fields.component;
    this.logPath = fields.logPath;
    this.logTail = fields.logTail;
  }
}

/** A command exited non-zero (or was killed at its timeout). */
export class SandboxCommandError extends SandboxError {
  override name = 'SandboxCommandError';
  readonly argv: readonly string[];
  readonly code: number;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(fields: { argv: readonly string[]; code: number; stderr: string; timedOut: boolean }) {
    const how = fields.timedOut ? 'timed out' : `exited ${fields.code}`;
    super(`${fields.argv.join(' ')} ${how}${fields.stderr ? `: ${fields.stderr.trim()}` : ''}`);
    this.argv = fields.argv;
    this.code = fields.code;
    this.stderr = fields.stderr;
    this.timedOut = fields.timedOut;
  }
}

/**
 * A program a namespace was asked to run, or the busybox applet, is not installed. Probes
 * throw it rather than report "no answer": a missing tool must not read as dropped traffic.
 */
export class SandboxToolMissingError extends SandboxError {
  override name = 'SandboxToolMissingError';
  /** The program, or 'busybox <applet>'. */
  readonly tool: string;

  constructor(tool: string) {
    super(`${tool} is not installed (deploy/install.sh installs what the sandbox runs)`);
    this.tool = tool;
  }
}

/** Nothing arrived in time (a UDP datagram, a DHCP lease). */
export class SandboxTimeoutError extends SandboxError {
  override name = 'SandboxTimeoutError';
}

export function isSandboxError(err: unknown): err is SandboxError {
  return err instanceof SandboxError;
}
export function isSandboxStartError(err: unknown): err is SandboxStartError {
  return err instanceof SandboxStartError;
}
export function isSandboxCommandError(err: unknown): err is SandboxCommandError {
  return err instanceof SandboxCommandError;
}
export function isSandboxToolMissingError(err: unknown): err is SandboxToolMissingError {
  return err instanceof SandboxToolMissingError;
}
export function isSandboxTimeoutError(err: unknown): err is SandboxTimeoutError {
  return err instanceof SandboxTimeoutError;
}
