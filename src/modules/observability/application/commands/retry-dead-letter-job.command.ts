import { JobQueue } from '@app/queue';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { JobNotFoundError } from '../../domain/observability.errors.js';

export class RetryDeadLetterJobCommand extends Command<void> {
  constructor(readonly jobId: string) {
    super();
  }
}

@CommandHandler(RetryDeadLetterJobCommand)
export class RetryDeadLetterJobHandler implements ICommandHandler<RetryDeadLetterJobCommand> {
  constructor(private readonly queue: JobQueue) {}

  async execute(command: RetryDeadLetterJobCommand): Promise<void> {
    if (!(await this.queue.retryDeadLetter(command.jobId))) throw new JobNotFoundError(command.jobId);
  }
}
