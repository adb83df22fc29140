/**
 * The tag's version: part of its immutable URL (`/tag/<version>/tag.js`) and of every event's
 * `context.library`. Bump it with every change to the tag's behaviour or bytes, since browsers
 * and CDNs keep a versioned URL for a year.
 */
export const TAG_VERSION = '1.0.0';
