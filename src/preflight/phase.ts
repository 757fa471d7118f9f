import { z } from 'zod';

/** `--phase N`: one of the runbook's five deploy phases. */
export const phaseArg = z.coerce.number().int().min(1, 'phases run 1–5').max(5, 'phases run 1–5').optional();
