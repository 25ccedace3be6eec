// The rule editor's form: one text field per setting of a feedback rule (the rules file's
// format, docs/feedback.md), as the admin page shows it and the service parses it back.
export type RuleFormValues = {
  name: string;
  enabled: boolean;
  trigger: string;
  delayDays: string;
  posDelayDays: string;
  segment: string;
  minimumTotal: string;
  includeTypes: string;
  excludeTypes: string;
  reminderCount: string;
  reminderSpacingDays: string;
  linkExpiryDays: string;
};
export type RuleField = keyof RuleFormValues;
