/** Makes one scheduled tick of a connection start at most one run, however many workers see it. */
export abstract class ScheduleTickClaims {
  /** True for exactly one caller per (connection, tick); false when this tick or a later one was claimed. */
  abstract claim(connectionId: string, tick: Date): Promise<boolean>;
}
