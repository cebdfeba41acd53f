export * from './errors';
export * from './protocol';
export * from './query';
export * from './model-manifest';
export * from './result-key';
export * from './signature';
export * from './image-type';
export * from './image-header';
