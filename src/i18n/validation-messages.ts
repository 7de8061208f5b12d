import type { z } from 'zod';

const cyrillic = /[А-Яа-яЁё]/;

/**
 * Russian text for a zod issue. Schemas with their own Russian messages keep them; zod's English
 * defaults ("Too small: expected number to be >=0") become plain Russian naming the field.
 */
export function issueText(issue: z.core.$ZodIssue, fieldNames: Record<string, string> = {}): string {
  const field = issue.path.map(String).join('.');
  const name = fieldNames[String(issue.path[0] ?? '')] ?? field;
  if (cyrillic.test(issue.message)) return issue.message;
  const prefix = name ? `${name}: ` : '';
  switch (issue.code) {
    case 'too_small':
      return `${prefix}не меньше ${String(issue.minimum)}`;
    case 'too_big':
      return `${prefix}не больше ${String(issue.maximum)}`;
    case 'invalid_type':
      return `${prefix}${issue.expected === 'number' ? 'нужно число' : issue.expected === 'boolean' ? 'нужно true или false' : issue.expected === 'string' ? 'нужен текст' : 'недопустимое значение'}`;
    case 'unrecognized_keys':
      return `${prefix}неизвестные поля: ${issue.keys.join(', ')}`;
    default:
      return `${prefix}недопустимое значение`;
  }
}

export function issuesText(error: z.ZodError, fieldNames: Record<string, string> = {}): string[] {
  return error.issues.map((i) => issueText(i, fieldNames));
}
