// The double lives with the local tools (`npm run stripe-double`); tests start it from here.
export * from '../../local/stripe-api/double';
