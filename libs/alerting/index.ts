export * from './alert-channel.js';
export * from './smtp.alert-channel.js';
export * from './webhook.alert-channel.js';
