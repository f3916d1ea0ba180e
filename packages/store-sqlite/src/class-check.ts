import type { Database } from "better-sqlite3";
import type { ClassDefinition, StoreOpenContext } from "@weft/core";
import { SqliteErrorCode, sqliteError } from "./errors.js";

type Logger = StoreOpenContext["logger"];

/** A property whose configured type differs from the type its stored values were written with. */
interface TypeChange {
  className: string;
  property: string;
  storedType: string;
  configuredType: string;
}

/**
 * Compares the configured classes with the property types recorded by earlier
 * opens, then records the configured ones. A new property is accepted because
 * existing objects simply lack it. A changed type is accepted only while no
 * stored object of the class has a non-null value for that property, since
 * such values would no longer match their declared type. Properties that left
 * the config keep their record, so adding them back with another type is
 * checked as well.
 * @throws WeftError `WEFT_ERR_SQLITE_PROPERTY_TYPE_CHANGED` naming every class and property.
 */
export function checkClasses(
  db: Database,
  file: string,
  classes: readonly ClassDefinition[],
  logger: Logger,
): void {
  // One write transaction, so no other connection writes a value between the check and the record.
  const accepted = db
    .transaction(() => checkAndRecord(db, file, classes))
    .immediate();
  for (const change of accepted) {
    logger.info(
      {
        file,
        class: change.className,
        property: change.property,
        from: change.storedType,
        to: change.configuredType,
      },
      "accepted a property type change because no stored object has a value for the property",
    );
  }
}

function checkAndRecord(
  db: Database,
  file: string,
  classes: readonly ClassDefinition[],
): TypeChange[] {
  const selectStored = db.prepare(
    "SELECT property, type FROM class_properties WHERE class = ?",
  );
  // json_each compares the key as text, so no JSON path quoting is needed for unusual names.
  const hasValue = db.prepare(
    `SELECT 1 FROM objects, json_each(objects.properties)
     WHERE objects.class = ? AND json_each.key = ? AND json_each.type <> 'null' LIMIT 1`,
  );
  const record = db.prepare(
    `INSERT INTO class_properties (class, property, type) VALUES (?, ?, ?)
     ON CONFLICT (class, property) DO UPDATE SET type = excluded.type`,
  );

  const changes: TypeChange[] = [];
  const accepted: TypeChange[] = [];
  for (const definition of classes) {
    const stored = new Map(
      (
        selectStored.all(definition.name) as Array<{
          property: string;
          type: string;
        }>
      ).map((row) => [row.property, row.type]),
    );
    for (const property of definition.properties) {
      const storedType = stored.get(property.name);
      if (storedType === undefined || storedType === property.type) continue;
      const change = {
        className: definition.name,
        property: property.name,
        storedType,
        configuredType: property.type,
      };
      if (hasValue.get(definition.name, property.name)) changes.push(change);
      else accepted.push(change);
    }
  }

  if (changes.length > 0) {
    const list = changes
      .map(
        (change) =>
          `class ${change.className} property ${change.property} (stored ${change.storedType}, config ${change.configuredType})`,
      )
      .join("; ");
    throw sqliteError(
      SqliteErrorCode.PROPERTY_TYPE_CHANGED,
      `${file}: the type of a stored property changed: ${list}. Restore the stored type in the config, or migrate the data: give the new type to a new property name, or delete the objects that have a value for it, then restart`,
      { details: { file, changes } },
    );
  }

  for (const definition of classes) {
    for (const property of definition.properties)
      record.run(definition.name, property.name, property.type);
  }
  return accepted;
}
