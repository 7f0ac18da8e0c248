/** A refusal that says what is wrong and where: the field, and the row for imported files. */
export type Problem = { field: string; message: string; row?: number };

export type Outcome<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export const success = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const refusal = <T = never>(...problems: Problem[]): Outcome<T> => ({ ok: false, problems });

/** "row 25, field guaranteeAmount: …" for a row of a file, "code: …" for a single input. */
export function describeProblem(p: Problem): string {
  return `${p.row !== undefined ? `row ${p.row}, field ` : ""}${p.field}: ${p.message}`;
}
