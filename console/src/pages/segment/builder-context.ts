/** What the builder offers in its pickers: the workspace's event names, computed traits, segments, purposes, external sources and models. */
import { createContext, useContext } from 'react';

export interface BuilderChoices {
  events: string[];
  computed: string[];
  segments: Array<{ id: string; name: string }>;
  purposes: string[];
  external: Array<{ id: string; fields: string[] }>;
  models: Array<{ id: string; name: string }>;
  /** The segment being edited (it cannot refer to itself). */
  self?: string;
}

export const EMPTY_CHOICES: BuilderChoices = { events: [], computed: [], segments: [], purposes: [], external: [], models: [] };
export const ChoicesContext = createContext<BuilderChoices>(EMPTY_CHOICES);
export const useChoices = () => useContext(ChoicesContext);
