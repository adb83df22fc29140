/**
 * Every page of the console, one line each: its path, its name (the folder under pages/ and the
 * top-level key of its strings in i18n/en.json and fr.json; `<name>.title` labels the navigation),
 * and the permission needed to see it in the navigation (the server enforces it anyway).
 * To add a page: create pages/<name>/index.tsx exporting a default component, add its line here.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

export interface PageRoute {
  path: string;
  name: string;
  page: LazyExoticComponent<ComponentType>;
  /** Shown in the navigation (false for detail pages such as a profile's 360° view). */
  nav?: boolean;
  permission?: string;
}

export const routes: PageRoute[] = [
  { path: '/', name: 'home', nav: true, page: lazy(() => import('./home')) },
  { path: '/sources', name: 'sources', nav: true, page: lazy(() => import('./sources')) },
  { path: '/profiles', name: 'profiles', nav: true, page: lazy(() => import('./profiles')) },
  { path: '/profiles/:profileId', name: 'profile', page: lazy(() => import('./profile')) },
  { path: '/segments', name: 'segments', nav: true, page: lazy(() => import('./segments')) },
  { path: '/segments/:segmentId', name: 'segment', page: lazy(() => import('./segment')) },
  { path: '/journeys', name: 'journeys', nav: true, page: lazy(() => import('./journeys')) },
  { path: '/journeys/:journeyId', name: 'journeys', page: lazy(() => import('./journeys')) },
  { path: '/destinations', name: 'destinations', nav: true, page: lazy(() => import('./destinations')) },
  { path: '/destinations/:destinationId', name: 'destinations', page: lazy(() => import('./destinations')) },
  { path: '/models', name: 'models', nav: true, page: lazy(() => import('./models')) },
  { path: '/models/:modelId', name: 'models', page: lazy(() => import('./models')) },
  { path: '/analytics', name: 'analytics', nav: true, page: lazy(() => import('./analytics')) },
  { path: '/privacy', name: 'privacy', nav: true, permission: 'privacy:read', page: lazy(() => import('./privacy')) },
  { path: '/privacy/:section', name: 'privacy', permission: 'privacy:read', page: lazy(() => import('./privacy')) },
];
