// The apiserver's defaulting of custom resources from their CRD's structural schema
// (apiextensions-apiserver structuraldefaulting.Default): a property that has a `default` and
// is absent from its parent object is set to a copy of it; a null in a field that is not
// nullable is pruned first, so it takes the default too. Defaults apply only inside objects
// that exist: a missing parent is not created. It runs on every create, update and patch
// result, before validation, so what is stored and read back always carries them.

/** The part of an openAPIV3Schema that defaulting walks: properties, array items, defaults. */
export interface SchemaDefaults {
  default?: unknown;
  nullable?: boolean;
  properties?: Record<string, SchemaDefaults>;
  items?: SchemaDefaults;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fills in the schema's defaults in place. */
export function applySchemaDefaults(value: unknown, schema: SchemaDefaults): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applySchemaDefaults(item, schema.items);
    return;
  }
  if (!isObject(value) || !schema.properties) return;
  for (const [field, sub] of Object.entries(schema.properties)) {
    const absent = value[field] === undefined || (value[field] === null && !sub.nullable);
    if (absent && sub.default !== undefined) value[field] = structuredClone(sub.default);
    applySchemaDefaults(value[field], sub);
  }
}
