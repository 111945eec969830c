import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { openStorage } from '../storage/index.ts';
import type { Storage } from '../storage/types.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The collector's storage. Each consumer takes only its store: ingest `storage.ingest`, the live hub
     * `storage.eventLog`, the read API `storage.query`, retention `storage.retention`.
     */
    storage: Storage;
  }
}

/** Options of the {@link dbPlugin}. */
export interface DbPluginOptions {
  /** A SQLite file path, or a `postgres://` / `postgresql://` URL. */
  path: string;
}

const plugin: FastifyPluginAsync<DbPluginOptions> = async (app, options) => {
  const storage = await openStorage(options.path);
  app.decorate('storage', storage);
  app.addHook('onClose', async () => {
    await storage.close();
  });
};

/** Decorates `app.storage` with the opened storage and closes it when the app closes (after routes and sockets). */
export const dbPlugin = fp(plugin, { name: 'lifeline-db', fastify: '5.x' });
