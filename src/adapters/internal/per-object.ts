/**
 * A function that makes one value per key object on first use and returns it ever after; the
 * value goes when the key does (a WeakMap), e.g. one shared connection per host pool or client.
 */
export function perObject<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const values = new WeakMap<K, V>();
  return (key) => {
    let value = values.get(key);
    if (value === undefined) {
      value = make(key);
      values.set(key, value);
    }
    return value;
  };
}
