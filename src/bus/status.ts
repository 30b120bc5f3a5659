import type { JetStreamClient } from '@nats-io/jetstream';
import type { Subjects } from '../../events/mod.js';
import type { ResourceStatus } from '../reconcile/status.js';

/**
 * Publishes statuses to the STATUS stream, all in flight at once. The stream keeps
 * the latest few per subject, so a late subscriber still gets each resource's state.
 */
export class StatusPublisher {
  constructor(private readonly js: JetStreamClient, private readonly subjects: Subjects) {}

  async publish(statuses: readonly ResourceStatus[]): Promise<void> {
    await Promise.all(statuses.map(({ scope, ...status }) =>
      this.js.publish(this.subjects.status(scope, status.kind, status.id), JSON.stringify({ ...status, org: scope.org, project: scope.project }))));
  }
}
