/** The logger type the API takes (a pino logger; src/logger.ts builds the process-wide one). */
export type { Logger } from 'pino';
