const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface WarmupWindow {
  timeZone: string;
  /** 0 = Sunday. */
  days: ReadonlySet<number>;
  /** Local hours [startHour, endHour); start > end wraps past midnight. */
  startHour: number;
  endHour: number;
}

function parseDays(spec: string): Set<number> {
  const days = new Set<number>();
  for (const part of spec
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [from = -1, to = from] = part
      .split('-')
      .map((s) => DAYS.indexOf(s.trim() as (typeof DAYS)[number]));
    if (from < 0 || to < 0) {
      throw new Error(`WARMUP_DAYS: "${part}" is not a day or range such as mon-fri or sat`);
    }
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days;
}

/** WARMUP_HOURS "07-21" (local, end exclusive); "" or "off" disables warm-up. */
export function parseWarmupWindow(timeZone: string, daySpec: string, hours: string): WarmupWindow | null {
  if (hours === '' || hours === 'off') return null;
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(hours.trim());
  const startHour = Number(m?.[1]);
  const endHour = Number(m?.[2]);
  if (!m || startHour > 23 || endHour > 24 || startHour === endHour) {
    throw new Error(`WARMUP_HOURS: "${hours}" is not a range of local hours such as 07-21`);
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`WARMUP_TIMEZONE: "${timeZone}" is not an IANA time zone such as Europe/Berlin`);
  }
  return { timeZone, days: parseDays(daySpec), startHour, endHour };
}

export function isWithinWarmupWindow(at: Date, window: WarmupWindow | null): boolean {
  if (!window) return false;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: window.timeZone,
    weekday: 'short',
    hour: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const day = DAYS.indexOf(
    parts.find((p) => p.type === 'weekday')!.value.toLowerCase() as (typeof DAYS)[number],
  );
  const hour = Number(parts.find((p) => p.type === 'hour')!.value);
  const inHours =
    window.startHour < window.endHour
      ? hour >= window.startHour && hour < window.endHour
      : hour >= window.startHour || hour < window.endHour;
  return inHours && window.days.has(day);
}
