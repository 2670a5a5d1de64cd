// Entry point for `azd up`: a resource group and the gateway's resources in it.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region for the resources.')
param location string

@description('x402 facilitator the gateway settles through.')
param facilitatorUrl string = 'https://x402.org/facilitator'

@description('The KYC provider\'s hosted verification page, with {subject} for the payer reference; empty: KYC off.')
param kycStartUrl string = ''

@description('Anyone may sign up as a provider or payer with a wallet (Sign-In with Ethereum); false: only the operator creates organisations.')
param signupOpen bool = true

@secure()
@description('Admin key of the operator organisation (at least 24 characters); stored hashed by the gateway.')
param adminKey string

var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'resources'
  scope: rg
  params: {
    environmentName: environmentName
    location: location
    tags: tags
    facilitatorUrl: facilitatorUrl
    kycStartUrl: kycStartUrl
    signupOpen: signupOpen
    adminKey: adminKey
  }
}

output AZURE_FUNCTION_APP_NAME string = resources.outputs.functionAppName
output FRONTDOOR_URL string = resources.outputs.frontDoorUrl
output AZURE_KEY_VAULT_NAME string = resources.outputs.keyVaultName
