import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { CommandAddress, Reply, Subjects } from '../../events/mod.js';
import { ErrorCode } from '../commands/mod.js';
import type { Intake } from '../intake/intake.js';

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
  /** The same for the provider's commands. */
  readonly adminReplyPrefixes: readonly string[];
}

/**
 * The intake on NATS: subscribes to the command subjects (one queue group across engines),
 * hands each request to the intake and responds on its reply subject — only an inbox's.
 * No deciding happens here.
 */
export class CommandEndpoint {
  private subscriptions: Subscription[] = [];
  /** Requests dropped unprocessed because their reply subject is not under a reply prefix. */
  droppedForReplySubject = 0;

  constructor(private readonly opts: CommandEndpointOptions) {}

  start(): void {
    this.subscriptions = [this.opts.subjects.commandWildcard, this.opts.subjects.adminCommandWildcard].map((subject) =>
      this.opts.nc.subscribe(subject, {
        queue: `${this.opts.prefix}-intake`,
        callback: (err, msg) => {
          if (err) this.opts.logger.error({ err }, 'command subscription failed');
          else this.receive(msg);
        },
      }));
  }

  /** Stops taking requests; those taken are still answered (stop the intake after this). */
  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.map((sub) => sub.drain()));
  }

  private receive(msg: Msg): void {
    // The wildcards subscribed to are exactly what parseCommand accepts.
    const address = this.opts.subjects.parseCommand(msg.subject)!;
    // The engine may publish into streams, the JetStream API and every client's inbox: a reply
    // subject a client chose must not take it there (another tenant's status or inbox, a purge,
    // the event log).
    const { reply } = msg;
    if (reply && !this.inboxesOf(address).some((prefix) => reply.startsWith(prefix))) {
      this.droppedForReplySubject++;
      this.opts.logger.warn({ subject: msg.subject, reply }, 'request dropped unprocessed: its reply subject is not an inbox');
      return;
    }
    void this.opts.intake.submit(address, msg.data).then((answer) => {
      if (reply) this.respond(msg, answer);
    });
  }

  private inboxesOf(address: CommandAddress): readonly string[] {
    if (address.admin) return this.opts.adminReplyPrefixes;
    return this.opts.replyPrefixes.map((prefix) => prefix.replaceAll('{org}', address.org).replaceAll('{project}', address.project));
  }

  /**
   * A reply NATS refuses to carry (larger than the server's max_payload, e.g. a list of a
   * tenant's every rule) must not end the engine: the client gets INTERNAL instead, and
   * whatever was appended stays appended.
   */
  private respond(msg: Msg, answer: Reply): void {
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
