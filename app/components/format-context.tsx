// The shop's formatter for components: app.tsx's loader reads the shop's locale, time zone and
// currency once and provides them; components call useFormat() for counts, money, points and
// dates (app/domain/format.ts), so the server's HTML and the hydrated page print the same text.
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { createFormatter, type FormatSettings, type Formatter } from "../domain/format";

const FormatContext = createContext<Formatter>(createFormatter());

export function FormatProvider({ settings, children }: { settings: FormatSettings; children: ReactNode }) {
  const { locale, timeZone, currency } = settings;
  const formatter = useMemo(() => createFormatter({ locale, timeZone, currency }), [locale, timeZone, currency]);
  return <FormatContext.Provider value={formatter}>{children}</FormatContext.Provider>;
}

export const useFormat = () => useContext(FormatContext);
