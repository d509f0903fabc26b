import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import type { EnqueueRequest } from '../adapters/queue.js';
import { taskTypeSchema } from '../adapters/internal/queue-requests.js';

/**
 * Per-type defaults applied at creation when the request leaves a field out.
 *
 * @example
 * ```ts
 * import type { TaskDefaults } from 'digital-fabrica/tasks';
 * const slowAndImportant: TaskDefaults = { band: 'high', timeoutMs: 600_000, maxAttempts: 2 };
 * ```
 */
export type TaskDefaults = Pick<EnqueueRequest, 'band' | 'priority' | 'cost' | 'maxAttempts' | 'timeoutMs' | 'backoff'>;

/**
 * A registered kind of task: its name, the zod schema its payload must satisfy, and defaults.
 * `P` is the payload type handlers receive.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineTaskType, type TaskType } from 'digital-fabrica/tasks';
 * const ping: TaskType<{ host: string }> = defineTaskType('ping', z.object({ host: z.string() }));
 * ```
 */
export interface TaskType<P = unknown> {
  readonly name: string;
  readonly schema: z.ZodType<P>;
  readonly defaults: TaskDefaults;
}

/**
 * Declares a task type. The schema validates payloads at creation (the service) and, when the
 * worker is given the type, again at execution — so a handler only ever sees what it declared.
 *
 * @throws `VALIDATION_FAILED` for a malformed name.
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineTaskType } from 'digital-fabrica/tasks';
 * export const render = defineTaskType('render', z.object({ scene: z.string(), frames: z.number().int().positive() }), {
 *   band: 'high',
 *   maxAttempts: 5,
 *   timeoutMs: 60_000,
 * });
 * ```
 */
export function defineTaskType<S extends z.ZodType>(name: string, schema: S, defaults: TaskDefaults = {}): TaskType<z.output<S>> {
  return Object.freeze({ name: parseInput(taskTypeSchema, name, 'task type name'), schema: schema as unknown as z.ZodType<z.output<S>>, defaults: Object.freeze({ ...defaults }) });
}

/**
 * Task types by name; the service validates payloads through it.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineTaskType, TaskTypeRegistry } from 'digital-fabrica/tasks';
 * const registry = new TaskTypeRegistry([defineTaskType('ping', z.object({ host: z.string() }))]);
 * registry.parse('ping', { host: 'example.com' }); // { host: 'example.com' }
 * ```
 */
export class TaskTypeRegistry {
  readonly #types = new Map<string, TaskType>();

  /** @param types initial types. */
  constructor(types: readonly TaskType<unknown>[] = []) {
    for (const type of types) this.register(type);
  }

  /** Adds or replaces a type. */
  register(type: TaskType<unknown>): void {
    this.#types.set(type.name, type as TaskType);
  }

  /** The type named `name`, if registered. */
  get(name: string): TaskType | undefined {
    return this.#types.get(name);
  }

  /** Registered type names. */
  names(): string[] {
    return [...this.#types.keys()];
  }

  /**
   * Validates `payload` against the schema of type `name`.
   * @throws `VALIDATION_FAILED` for an unregistered type or a payload the schema rejects.
   */
  parse(name: string, payload: unknown): unknown {
    const type = this.#types.get(name);
    if (type === undefined) {
      throw new ValidationError(`invalid task: type ${name} is not registered`, [{ path: ['type'], message: 'unknown task type', code: 'custom' }]);
    }
    return parseInput(type.schema, payload, `${name} payload`);
  }
}
