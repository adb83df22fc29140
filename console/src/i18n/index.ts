/**
 * French and English. Each page keeps its strings under its own top-level key (`home.*`,
 * `journeys.*`, ...) in en.json and fr.json; `common.*` and `layout.*` are shared. The language
 * is the user's (PUT /api/auth/me); before login, the last one chosen on this device or the
 * browser's.
 */
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import fr from './fr.json';

export const LANGUAGES = ['en', 'fr'] as const;
const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem('ensemble.locale');
const browser = typeof navigator === 'undefined' ? 'en' : navigator.language.slice(0, 2);
const initial = stored ?? (browser === 'fr' ? 'fr' : 'en');

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, fr: { translation: fr } },
  lng: initial,
  fallbackLng: 'en',
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});

i18n.on('languageChanged', (lng) => {
  localStorage.setItem('ensemble.locale', lng);
  document.documentElement.lang = lng;
});
document.documentElement.lang = initial;

export default i18n;
