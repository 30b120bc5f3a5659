import { Svcm } from '@nats-io/services';
import type { Service, ServiceMsg } from '@nats-io/services';
import type { Msg, NatsConnection, SubscriptionOptions } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { CommandAddress, Reply, Subjects } from '../../events/mod.js';
import { ErrorCode } from '../commands/mod.js';
import type { Intake } from '../intake/intake.js';

/**
 * An operator request on `<prefix>.admin.ops.<name>` (verify's digests, plan, drift): the
 * payload as JSON (undefined for an empty one), answered like a command.
 */
export type OperatorHandler = (payload: unknown) => Promise<Reply> | Reply;

export interface CommandEndpointOptions {
  readonly nc: NatsConnection;
  readonly intake: Intake;
  readonly subjects: Subjects;
  readonly prefix: string;
  readonly logger: Logger;
  /**
   * Reply subjects a tenant's commands are answered on: those starting with one of these, with
   * `{org}` and `{project}` the command's (client inboxes; EngineConfig checks them).
   */
  readonly replyPrefixes: readonly string[];
  /** The same for the provider's commands and the operator requests. */
  readonly adminReplyPrefixes: readonly string[];
  /** Operator requests by name. */
  readonly operator?: ReadonlyMap<string, OperatorHandler>;
  /** The service's version in `nats micro info` (the engine gives the package's). */
  readonly version?: string;
}

/** The NATS micro service name the intake registers as (`nats micro info novanet`). */
export const SERVICE_NAME = 'novanet';

/** Refusals by error code, per endpoint: `data` of the endpoint in `nats micro stats`. */
type Refusals = Record<string, number>;

/**
 * The intake on NATS, as a NATS micro service (`$SRV.PING|INFO|STATS`, so `nats micro ls`,
 * `info` and `stats` show it): endpoints `commands` (tenants), `admin` (the provider) and
 * `operator`, all in one queue group across engines. It hands each request to the intake
 * and responds on its reply subject — only an inbox's. No deciding happens here.
 */
export class CommandEndpoint {
  private service: Service | undefined;
  private readonly refusals = new Map<string, Refusals>();
  /** Requests dropped unprocessed because their reply subject is not under a reply prefix. */
  droppedForReplySubject = 0;

  constructor(private readonly opts: CommandEndpointOptions) {}

  async start(): Promise<void> {
    const { subjects, prefix } = this.opts;
    const service = await new Svcm(this.guarded(this.opts.nc)).add({
      name: SERVICE_NAME,
      version: this.opts.version ?? '0.0.0',
      description: `novanet intake: commands on ${subjects.commandWildcard}, provider commands on ${subjects.adminCommandWildcard}, operator requests on ${subjects.operatorWildcard}`,
      metadata: { prefix },
      queue: `${prefix}-intake`,
      // A request refused (or failed) is answered, not an error of the service: counts by code ride along.
      statsHandler: (endpoint) => Promise.resolve({ refused: this.refusals.get(endpointName(endpoint.subject, subjects)) ?? {} }),
    });
    this.service = service;
    const handle = (endpoint: string, receive: (msg: ServiceMsg) => Promise<Reply> | undefined) => (err: Error | null, msg: ServiceMsg) => {
      if (err) {
        this.opts.logger.error({ err, endpoint }, 'service endpoint failed');
        return;
      }
        void receive(msg)?.then((answer) => {
        if (!answer.ok) {
          const counts = this.refusals.get(endpoint) ?? {};
          counts[answer.error.code] = (counts[answer.error.code] ?? 0) + 1;
          this.refusals.set(endpoint, counts);
        }
        if (msg.reply) this.respond(msg, answer);
      });
    };
    service.addEndpoint('commands', { subject: subjects.commandWildcard, handler: handle('commands', (msg) => this.command(msg)) });
    service.addEndpoint('admin', { subject: subjects.adminCommandWildcard, handler: handle('admin', (msg) => this.command(msg)) });
    service.addEndpoint('operator', { subject: subjects.operatorWildcard, handler: handle('operator', (msg) => this.operator(msg)) });
    // Started means served: once the server has the subscriptions, a request sent next finds a responder.
    await this.opts.nc.flush();
  }

  /** Stops taking requests; those taken are still answered (stop the intake after this). */
  async stop(): Promise<void> {
    await this.service?.stop();
  }

  private command(msg: ServiceMsg): Promise<Reply> | undefined {
    // The wildcards subscribed to are exactly what parseCommand accepts.
    return this.opts.intake.submit(this.opts.subjects.parseCommand(msg.subject)!, msg.data);
  }

  private operator(msg: ServiceMsg): Promise<Reply> | undefined {
    const name = msg.subject.slice(this.opts.subjects.operator('').length);
    const handler = this.opts.operator?.get(name);
    if (!handler) {
      return Promise.resolve({ ok: false, error: { code: ErrorCode.UNKNOWN_OPERATION, message: `no operator request '${name}' (${[...this.opts.operator?.keys() ?? []].join(', ')})` } });
    }
    let payload: unknown;
    try {
      payload = msg.data.length === 0 ? undefined : msg.json();
    } catch {
      return Promise.resolve({ ok: false, error: { code: ErrorCode.VALIDATION_FAILED, message: 'the payload is not JSON' } });
    }
    return Promise.resolve().then(() => handler(payload)).catch((err: unknown) => {
      this.opts.logger.error({ err, operator: name }, 'operator request failed');
      return { ok: false, error: { code: ErrorCode.INTERNAL, message: err instanceof Error ? err.message : String(err) } } satisfies Reply;
    });
  }

  /**
   * The connection the service library subscribes with: every message it would see, its own
   * `$SRV.PING|INFO|STATS` handlers' included (they answer any reply subject), passes
   * `answersTo` first. One gate for every subject the engine answers on.
   */
  private guarded(nc: NatsConnection): NatsConnection {
    const subscribe = (subject: string, opts?: SubscriptionOptions) => {
      const callback = opts?.callback;
      return nc.subscribe(subject, callback ? { ...opts, callback: (err, msg) => { if (err || this.answersTo(msg)) void callback(err, msg); } } : opts);
    };
    return new Proxy(nc, {
      get: (target, key) => {
        if (key === 'subscribe') return subscribe;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /**
   * The engine may publish into streams, the JetStream API and every client's inbox: a reply
   * subject a client chose must not take it there (another tenant's status or inbox, a purge,
   * the event log). A request with any other reply subject is dropped unprocessed. A tenant's
   * command is answered in that tenant's inboxes; the provider's, operator requests and the
   * service's discovery requests in the admin ones.
   */
  private answersTo(msg: Msg): boolean {
    const { reply } = msg;
    if (!reply) return true;
    const address = this.opts.subjects.parseCommand(msg.subject);
    const inboxes = address && !address.admin ? this.tenantInboxes(address) : this.opts.adminReplyPrefixes;
    if (inboxes.some((prefix) => reply.startsWith(prefix))) return true;
    this.droppedForReplySubject++;
    this.opts.logger.warn({ subject: msg.subject, reply }, 'request dropped unprocessed: its reply subject is not an inbox');
    return false;
  }

  private tenantInboxes(address: CommandAddress): readonly string[] {
    return this.opts.replyPrefixes.map((prefix) => prefix.replaceAll('{org}', address.org).replaceAll('{project}', address.project));
  }

  /**
   * A reply NATS refuses to carry (larger than the server's max_payload, e.g. a list of a
   * tenant's every rule) must not end the engine: the client gets INTERNAL instead, and
   * whatever was appended stays appended.
   */
  private respond(msg: ServiceMsg, answer: Reply): void {
    try {
      msg.respond(JSON.stringify(answer));
    } catch (err) {
      this.opts.logger.error({ err, subject: msg.subject }, 'the reply could not be sent');
      // Not "not applied": a command whose reply was too large was appended (its seq says where).
      const unsent: Reply = {
        ok: false, ...(answer.commandId !== undefined && { commandId: answer.commandId }),
        error: { code: ErrorCode.INTERNAL, message: 'the reply could not be sent (larger than NATS carries?)', ...(answer.ok && { details: { seq: answer.seq } }) },
      };
      try {
        msg.respond(JSON.stringify(unsent));
      } catch (again) {
        this.opts.logger.error({ err: again, subject: msg.subject }, 'not even an error reply could be sent');
      }
    }
  }
}

function endpointName(subject: string, subjects: Subjects): string {
  return subject === subjects.commandWildcard ? 'commands' : subject === subjects.adminCommandWildcard ? 'admin' : 'operator';
}
