// The kernel's public surface. Plugins import from here, never from tsyringe.
import 'reflect-metadata';
export { inject, injectable, type DependencyContainer, type InjectionToken } from 'tsyringe';
export * from './actions.js';
export * from './errors.js';
export * from './defaults.js';
export * from './names.js';
export * from './codec.js';
export * from './line-splitter.js';
export * from './logger.js';
export * from './session.js';
export * from './session-registry.js';
export * from './of-verb.js';
export * from './events.js';
export * from './plugin.js';
export * from './plugin-host.js';
export * from './channel-directory.js';
export * from './kernel.js';
export * from './server.js';
