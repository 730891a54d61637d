/**
 * Building blocks of the response schemas in the route descriptions (src/api/operations/*): these
 * schemas only describe what the server sends (the OpenAPI document); responses are not parsed with them.
 */
import { z } from 'zod';

/** An ISO 8601 timestamp as the API sends it (`Date` serialised by JSON). */
export const timestamp = z.iso.datetime({ offset: true });
/** A count (rows, items, tokens). */
export const count = z.number().int().min(0);
/** A JSON object of the given fields; further fields may appear (responses grow compatibly). */
export const answer = z.looseObject;
/** `{count, <key>: [item...]}`, the shape of every list route. */
export function listOf<K extends string>(key: K, item: z.ZodType) {
  return answer({ count, [key]: z.array(item) } as { count: typeof count } & Record<K, z.ZodArray<z.ZodType>>);
}
/** `{<fields>, deleted: true}`, the answer of a delete. */
export const deleted = (fields: z.ZodRawShape) => answer({ ...fields, deleted: z.literal(true) });
