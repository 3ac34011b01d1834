/** The sync icons (the navigation entry, the clock warning), drawn like components/Icons.tsx. */
import type { ReactNode } from 'react';

function Svg({ children, size }: { children: ReactNode; size: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

/** Two arrows chasing each other: the sync panel in the navigation. */
export const IconSync = () => (
  <Svg size={18}>
    <path d="M21 4v6h-6" />
    <path d="M3 20v-6h6" />
    <path d="M5 9a8 8 0 0 1 13.2-3L21 10" />
    <path d="M3 14l2.8 4A8 8 0 0 0 19 15" />
  </Svg>
);

export const IconClock = () => (
  <Svg size={14}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7v5l3 2" />
  </Svg>
);
