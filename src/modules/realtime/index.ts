export { RealtimePublisher } from './application/ports/realtime-publisher.port.js';
export { RoomPolicyProvider, type RoomEvent, type RoomPolicy } from './application/room-policy.js';
export { configureRealtimeAdapter } from './infrastructure/realtime-adapter.js';
export { RealtimeModule } from './realtime.module.js';
