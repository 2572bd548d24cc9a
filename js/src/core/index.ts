export * from './json';
export * from './patch';
export * from './buffers';
export * from './events';
export * from './mirror';
export * from './afm';
export * from './limits';
